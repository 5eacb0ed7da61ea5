-- every athlete with activities in the warehouse (the pages' athlete selector); ids as text like every id here
select cast(athlete_id as varchar) as athlete_id, athlete_name, athlete_rank, activity_count
from athletes
order by athlete_rank
