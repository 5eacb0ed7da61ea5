select cast(athlete_id as varchar) as athlete_id, gear_name, component, replace_after_km, replace_after_h, last_replaced_on, gear_found, distance_since_km,
       moving_time_since_h, remaining_km, remaining_h, is_due
from gear_maintenance_status
order by is_due desc, gear_name, component
