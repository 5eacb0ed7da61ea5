{{ config(severity='warn') }}
{#- Warns when the latest week's number of activities (all sports of an athlete) is unusually high against the
    athlete's recent active weeks: the last 26 earlier weeks with at least one activity, so that empty weeks (a
    break, the sparse years an archive adds) do not drag the mean down and flag ordinary weeks.
    z = (latest - mean) / stddev above 1.645, the 95th percentile of a normal distribution (one-sided). Usually a
    double import or a sync gone wrong, sometimes just a big week: a warning, never a failed build. Needs 8 active
    weeks and some variation to say anything. reports/sources/strava/volume_anomalies.sql scores every week so. -#}
with

weeks as (

    select athlete_id, week_start, sum(activity_count) as activity_count
    from {{ ref('weekly_summary') }}
    group by athlete_id, week_start

),

latest as (

    select athlete_id, max(week_start) as week_start from weeks group by athlete_id

),

recent_active as (

    select
        weeks.athlete_id,
        weeks.activity_count,
        row_number() over (partition by weeks.athlete_id order by weeks.week_start desc) as weeks_ago
    from weeks
    inner join latest on latest.athlete_id = weeks.athlete_id and weeks.week_start < latest.week_start
    where weeks.activity_count > 0

),

history as (

    select
        athlete_id,
        avg(activity_count) as mean_count,
        stddev_samp(activity_count) as stddev_count,
        count(*) as history_weeks
    from recent_active
    where weeks_ago <= 26
    group by athlete_id

),

scored as (

    select
        weeks.athlete_id,
        weeks.week_start,
        weeks.activity_count,
        history.mean_count,
        history.stddev_count,
        history.history_weeks,
        (weeks.activity_count - history.mean_count) / nullif(history.stddev_count, 0) as z_score
    from weeks
    inner join latest on latest.athlete_id = weeks.athlete_id and latest.week_start = weeks.week_start
    inner join history on history.athlete_id = weeks.athlete_id
    where history.history_weeks >= 8

)

select * from scored
where z_score > 1.645
