select cast(athlete_id as varchar) as athlete_id, sport_type, period_kind, period_start, zone_type, zone, zone_name, time_s, time_h, share_of_time
from time_in_zones_by_period
order by period_start, zone_type, zone
