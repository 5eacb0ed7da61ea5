-- yearly_summary: one row per athlete x sport x year, with the year to date compared with the same stretch last year
select
    cast(athlete_id as varchar) as athlete_id,
    sport_type,
    year,
    is_current_year,
    ytd_as_of_date,
    activity_count,
    distance_km,
    moving_time_h,
    elevation_gain_m,
    ytd_activity_count,
    ytd_distance_km,
    ytd_moving_time_h,
    ytd_elevation_gain_m,
    prev_year_ytd_activity_count,
    prev_year_ytd_distance_km,
    prev_year_ytd_moving_time_h,
    prev_year_ytd_elevation_gain_m
from yearly_summary
