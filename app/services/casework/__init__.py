"""Cases and their engine steps (办件): processes and items, starting and withdrawing cases, completing
tasks, firing BPMN timers. `steps` runs one engine step and tells the listeners wired at start-up."""
