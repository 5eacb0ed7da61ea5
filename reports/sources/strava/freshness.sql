-- how current the reports are: the snapshot, the newest activity, the last fetch of the import
select
    (select snapshot_at_utc from snapshot_info) as snapshot_at_utc,
    (select dbt_results_at_utc from snapshot_info) as dbt_results_at_utc,
    (select max(start_at_local) from activities) as newest_activity_local,
    (select max(last_fetched_at_utc) from import_progress) as last_fetched_at_utc,
    (select count(*) from activities) as activity_count
