select cast(athlete_id as varchar) as athlete_id, review_year, activity_count, active_days, distance_km, moving_time_s, elevation_gain_m, training_load,
       gear_used, gear_count, moving_time_h, main_sport_type, biggest_day, biggest_day_moving_time_s,
       biggest_day_distance_km, biggest_week_start, biggest_week_moving_time_s, biggest_week_distance_km,
       longest_activity_id, longest_activity_name, longest_activity_sport_type, longest_activity_moving_time_s,
       longest_activity_distance_km, longest_streak_days, longest_streak_start, personal_bests_set,
       most_active_weekday, most_active_hour
from year_in_review
order by review_year
