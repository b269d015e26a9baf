"""Time limits and their supervision (电子监察): case clocks, special procedures and extensions, the
clock sweep and its alarms, supervision orders and the dashboard."""
