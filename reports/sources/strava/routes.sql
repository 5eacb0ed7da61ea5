-- activities with a published (masked) route; the geometry itself is in /routes/<activity_id>.geojson
select cast(athlete_id as varchar) as athlete_id, activity_id, cast(year as varchar) as year, sport_type from routes
