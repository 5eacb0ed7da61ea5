-- best mean-maximal power per sport, period (all time, each year, last 42 / 90 days) and duration
select cast(athlete_id as varchar) as athlete_id, sport_type, period_kind, period, season_year, duration_s, duration_label, power_w, activity_id,
       activity_name, achieved_on
from power_curve
order by sport_type, period, duration_s
