"""好差评 (GB/T 39734-2020 "一次一评" "一事一评"): the rating window a finished case or a window visit
opens, the ratings and their rules, the reminder and closing job, and the list for supervisors.

- levels: the five levels, good/neutral/bad, the rated dimensions, the default reasons (statistics use it)
- rules: the centre's settings (reasons, window in working days, reminder delay, default level)
- requests: opening a rating window; invite: the step listener that opens it when a case is finished
- windows: service windows, their clerks, visits and the signed QR tokens
- rate: rating a case or a visit (the bad-rating hook for rectification lives there)
- sweep: the scheduler job; listing: the filtered list
"""
