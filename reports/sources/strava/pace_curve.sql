-- best pace per sport (runs, swims), period and effort (duration or standard distance)
select cast(athlete_id as varchar) as athlete_id, sport_type, period_kind, period, season_year, curve_kind, effort, duration_s, distance_m, pace_s_per_km,
       pace_s_per_100m, activity_id, activity_name, achieved_on
from pace_curve
order by sport_type, period, curve_kind, duration_s
