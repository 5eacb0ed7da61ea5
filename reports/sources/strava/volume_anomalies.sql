-- each week's activity count (all sports) against the weeks before it: the z-score the dbt check
-- assert_latest_week_volume_is_not_anomalous applies to the latest week (warn above 1.645, needs 8 weeks)
with weeks as (
    select week_start, sum(activity_count) as activity_count, sum(distance_km) as distance_km
    from weekly_summary
    group by week_start
),
scored as (
    select
        week_start,
        activity_count,
        distance_km,
        avg(activity_count) over earlier as mean_before,
        stddev_samp(activity_count) over earlier as stddev_before,
        count(*) over earlier as weeks_before
    from weeks
    window earlier as (order by week_start rows between unbounded preceding and 1 preceding)
)
select
    week_start,
    activity_count,
    distance_km,
    mean_before,
    stddev_before,
    case when weeks_before >= 8 then (activity_count - mean_before) / nullif(stddev_before, 0) end as z_score,
    coalesce(weeks_before >= 8 and (activity_count - mean_before) / nullif(stddev_before, 0) > 1.645, false)
        as is_anomalous
from scored
