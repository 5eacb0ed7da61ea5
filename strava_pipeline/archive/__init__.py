"""Strava's bulk-export archive and loose device files: parsers for activities.csv and GPX/FIT/TCX tracks
(activities_csv, gpx, fit, tcx, tracks), the dlt source `strava_archive` (source.py) and the import runs
(importer.import_archive, fileimport.import_files, inbox.import_inbox) that load them.

This package imports nothing itself: a parser worker process loads only the parsers, not dlt.
"""
