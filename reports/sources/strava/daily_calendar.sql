select cast(athlete_id as varchar) as athlete_id, calendar_date, calendar_year, weekday, week_of_year, activity_count, distance_km, moving_time_s,
       moving_time_h, elevation_gain_m, training_load, run_count, ride_count, swim_count, other_count,
       sport_types, main_sport_type, intensity_level
from daily_calendar
order by calendar_date
