"""The staff workbench: inbox views, claiming and reassignment, the task and case pages."""
