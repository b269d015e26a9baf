"""Use cases. Each public function takes a `ServiceContext` and plain arguments, runs in one unit of
work and commits once; none of them knows about HTTP."""
