-- activity_streams_masked, thinned by the snapshot to a few hundred points per activity; no positions.
-- activity_id stays a number and the rows are sorted by it: each activity page reads only its row groups
select
    activity_id,
    point_index,
    elapsed_s,
    distance_km,
    altitude_m,
    speed_kmh,
    pace_min_per_km,
    heartrate_bpm,
    cadence_rpm,
    power_w
from streams
order by activity_id, point_index
