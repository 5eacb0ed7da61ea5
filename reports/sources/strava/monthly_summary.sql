-- monthly_summary: one row per athlete x sport x calendar month (zero rows for months without activity)
select
    cast(athlete_id as varchar) as athlete_id,
    sport_type,
    month_start,
    month_end,
    activity_count,
    distance_km,
    moving_time_h,
    elevation_gain_m,
    avg_speed_kmh,
    avg_pace_min_per_km,
    avg_heartrate_bpm,
    avg_power_w,
    weighted_avg_power_w,
    kudos_count,
    activity_count_moving_avg_4,
    distance_km_moving_avg_4,
    moving_time_h_moving_avg_4,
    elevation_gain_m_moving_avg_4,
    distance_km_change,
    distance_km_change_pct
from monthly_summary
