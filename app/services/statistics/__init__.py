"""The centre's statistics (统计分析): daily rollups of the case event log kept by the scheduler, and the
figures read from them (workload, times per stage, backlog), with their CSV and XLSX exports."""
