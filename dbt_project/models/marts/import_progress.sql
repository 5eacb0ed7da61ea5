{#- How far the import got, per athlete and kind of item: the same reading of strava.fetch_log as the pipeline's
    work queue (strava_pipeline/workqueue.py): an activity still needs a kind until fetch_log has a row for it.
    Like the queue, only activities the API listed count: an imported archive already holds its history and is
    never fetched again. Manual activities have no streams, so their streams cost no request. zones are only
    fetched with --zones: their row appears once any was fetched. -#}
with

activities as (

    select activity_id, athlete_id, is_manual from {{ ref('stg_strava__activities') }}
    where source = 'api'

),

fetch_log as (

    select * from {{ ref('stg_strava__fetch_log') }}

),

kinds as (

    select kind from (values ('detail'), ('streams')) as defaults(kind)
    union
    select distinct fetch_kind from fetch_log

),

items as (

    select
        activities.athlete_id,
        kinds.kind as fetch_kind,
        activities.activity_id,
        activities.is_manual,
        fetch_log.fetch_status,
        fetch_log.fetched_at_utc
    from activities
    cross join kinds
    left join fetch_log
        on fetch_log.activity_id = activities.activity_id
        and fetch_log.fetch_kind = kinds.kind

),

final as (

    select
        {{ surrogate_key(['athlete_id', 'fetch_kind']) }} as import_progress_id,
        athlete_id,
        fetch_kind,
        count(*) as activity_count,
        count(*) filter (where fetch_status = 'ok') as fetched_count,
        count(*) filter (where fetch_status is not null and fetch_status <> 'ok') as unavailable_count,
        count(*) filter (where fetch_status is null) as pending_count,
        count(*) filter (where fetch_status is null and not (fetch_kind = 'streams' and is_manual))
            as pending_requests,
        round(100.0 * count(*) filter (where fetch_status is not null) / count(*), 1) as pct_done,
        max(fetched_at_utc) as last_fetched_at_utc
    from items
    group by athlete_id, fetch_kind

)

select * from final
