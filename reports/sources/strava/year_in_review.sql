select * exclude (year_in_review_id, athlete_id)
from year_in_review
order by review_year
