{#- The Eddington number E of each athlete and sport: the largest E such that on E days the athlete covered at
    least E km (the distances of one local day added up). -#}
with

daily as (

    select
        athlete_id,
        sport_type,
        start_date_local as activity_date,
        sum(distance_km) as distance_km
    from {{ ref('fct_activities') }}
    group by athlete_id, sport_type, start_date_local
    having sum(distance_km) > 0

),

ranked as (

    select
        *,
        row_number() over (partition by athlete_id, sport_type order by distance_km desc, activity_date) as day_rank
    from daily

),

-- in descending order of distance, the n-th day reaches n km exactly for n <= E
numbers as (

    select
        athlete_id,
        sport_type,
        count(*) filter (where floor(distance_km) >= day_rank) as eddington_number,
        count(*) as days_with_distance,
        max(distance_km) as longest_day_km
    from ranked
    group by athlete_id, sport_type

),

final as (

    select
        {{ surrogate_key(['numbers.athlete_id', 'numbers.sport_type']) }} as eddington_id,
        numbers.athlete_id,
        numbers.sport_type,
        numbers.eddington_number,
        numbers.eddington_number + 1 as next_eddington_number,
        count(daily.activity_date) as days_at_next_km,
        -- days of at least E + 1 km still missing for E + 1
        numbers.eddington_number + 1 - count(daily.activity_date) as days_needed_for_next,
        numbers.days_with_distance,
        numbers.longest_day_km
    from numbers
    left join daily
        on daily.athlete_id = numbers.athlete_id
        and daily.sport_type = numbers.sport_type
        and daily.distance_km >= numbers.eddington_number + 1
    group by
        numbers.athlete_id, numbers.sport_type, numbers.eddington_number, numbers.days_with_distance,
        numbers.longest_day_km

)

select * from final
