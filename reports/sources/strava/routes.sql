-- activities with a published (masked) route; the geometry itself is in /routes/<activity_id>.geojson
select activity_id, cast(year as varchar) as year, sport_type from routes
