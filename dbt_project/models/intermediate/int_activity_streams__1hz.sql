{#- The streams resampled to one row per activity and elapsed second (macro resample_1hz: gaps over 5 s count as
    zero), the common ground of the time in zones; the power and pace curves resample their own activities with the
    same macro. A view: two million rows a year are cheaper to recompute than to store. -#}
{{ config(materialized='view') }}

{{ resample_1hz(ref('stg_strava__activity_streams')) }}
