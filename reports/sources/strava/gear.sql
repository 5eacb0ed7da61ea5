select cast(athlete_id as varchar) as athlete_id, gear_key, gear_name, gear_type, brand_name, model_name, is_retired, gear_source, main_sport_type,
       activity_count, distance_km, moving_time_s, elevation_gain_m, first_used_on, last_used_on, strava_distance_km
from gear_summary
order by last_used_on desc
