"""Strava data stack: the athlete's history in a warehouse they own.

Where things are: `api/` talks to Strava (client, OAuth tokens, the rate-limit budget, the work queue, the import
run and its response journal); `source.py` is the dlt source of the API's raw tables; `archive/` reads bulk exports
and device files; `transform.py` runs dbt; `reports.py` and `maps/` publish; `cli.py` parses the command line.
"""
