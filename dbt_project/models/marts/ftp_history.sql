{#- Estimated FTP per athlete x month, from the rides' power curves (sports of the is_ride macro, pooled):
    95 % of the best 20-minute power of the month, and the estimate a coach would quote that month: 95 % of the
    best 20 minutes of the 90 days up to the month's end (a month of rest does not erase the fitness). Every month
    from the first ride with power to the month of as_of_date. -#}
with

best_20_min as (

    select athlete_id, start_date_local, power_w
    from {{ ref('activity_power_curve') }}
    where duration_s = 1200 and {{ is_ride('sport_type') }}

),

bounds as (

    select athlete_id, min(start_date_local) as first_date
    from best_20_min
    group by athlete_id

),

months as (

    select
        athlete_id,
        {{ date_series(
            "date_trunc('month', first_date)",
            "date_trunc('month', greatest(first_date, " ~ as_of_date() ~ "))",
            'month'
        ) }} as month_start
    from bounds

),

final as (

    select
        {{ surrogate_key(['months.athlete_id', 'months.month_start']) }} as ftp_history_id,
        months.athlete_id,
        months.month_start,
        max(best_20_min.power_w) filter (
            where date_trunc('month', best_20_min.start_date_local) = months.month_start
        ) as month_best_20min_w,
        0.95 * max(best_20_min.power_w) filter (
            where date_trunc('month', best_20_min.start_date_local) = months.month_start
        ) as month_estimated_ftp_w,
        max(best_20_min.power_w) as best_20min_90d_w,
        0.95 * max(best_20_min.power_w) as estimated_ftp_w
    from months
    left join best_20_min
        on best_20_min.athlete_id = months.athlete_id
        and best_20_min.start_date_local > cast(months.month_start + interval '1 month' as date) - 91
        and best_20_min.start_date_local < cast(months.month_start + interval '1 month' as date)
    group by months.athlete_id, months.month_start

)

select * from final
