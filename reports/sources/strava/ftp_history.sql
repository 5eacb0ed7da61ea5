select cast(athlete_id as varchar) as athlete_id, month_start, month_best_20min_w, month_estimated_ftp_w, best_20min_90d_w, estimated_ftp_w
from ftp_history
order by month_start
