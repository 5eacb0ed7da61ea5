-- the newest activities of each athlete, for the overview's list: the page reads these few rows, not every activity
select cast(athlete_id as varchar) as athlete_id, start_at_local, activity_name, sport_type, distance_km,
       moving_time_s, elevation_gain_m, avg_heartrate_bpm, '/activity/?id=' || cast(activity_id as varchar) as link
from (select *, row_number() over (partition by athlete_id order by start_at_local desc, activity_id desc) as n
      from activities)
where n <= 10
order by athlete_id, start_at_local desc
