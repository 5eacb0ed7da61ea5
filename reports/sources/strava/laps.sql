-- stg_strava__activity_laps: one row per lap (activity_id a number, sorted: see streams.sql)
select
    activity_id,
    lap_index,
    lap_name,
    distance_km,
    moving_time_s,
    elapsed_time_s,
    elevation_gain_m,
    avg_speed_kmh,
    pace_min_per_km,
    avg_heartrate_bpm,
    max_heartrate_bpm,
    avg_cadence_rpm,
    avg_power_w
from laps
order by activity_id, lap_index
