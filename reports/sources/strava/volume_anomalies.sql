-- each week's activity count (all sports) against the athlete's recent active weeks: the 26 weeks with activity
-- before it, so that empty weeks (breaks, the sparse years of an archive) do not drag the mean down. The z-score the
-- dbt check assert_latest_week_volume_is_not_anomalous applies to the latest week (warn above 1.645, needs 8 weeks)
with weeks as (
    select athlete_id, week_start, sum(activity_count) as activity_count, sum(distance_km) as distance_km
    from weekly_summary
    group by athlete_id, week_start
),
active as (
    select
        athlete_id,
        week_start,
        avg(activity_count) over earlier as mean_before,
        stddev_samp(activity_count) over earlier as stddev_before,
        count(*) over earlier as weeks_before
    from weeks
    where activity_count > 0
    window earlier as (partition by athlete_id order by week_start rows between 26 preceding and 1 preceding)
),
scored as (
    select
        weeks.athlete_id,
        weeks.week_start,
        weeks.activity_count,
        weeks.distance_km,
        active.mean_before,
        active.stddev_before,
        coalesce(active.weeks_before, 0) as weeks_before
    from weeks
    left join active on active.athlete_id = weeks.athlete_id and active.week_start = weeks.week_start
)
select
    cast(athlete_id as varchar) as athlete_id,
    week_start,
    activity_count,
    distance_km,
    mean_before,
    stddev_before,
    case when weeks_before >= 8 then (activity_count - mean_before) / nullif(stddev_before, 0) end as z_score,
    coalesce(weeks_before >= 8 and (activity_count - mean_before) / nullif(stddev_before, 0) > 1.645, false)
        as is_anomalous
from scored
order by athlete_id, week_start
