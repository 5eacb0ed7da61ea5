{#- true for the sport types that are runs: the ones with a pace in min/km. -#}
{% macro is_run(sport_type) -%}
    (({{ sport_type }}) in ('Run', 'TrailRun', 'VirtualRun'))
{%- endmacro %}

{#- true for the sport types that are rides (bike power, FTP): not e-bikes. -#}
{% macro is_ride(sport_type) -%}
    (({{ sport_type }}) in ('Ride', 'VirtualRide', 'GravelRide', 'MountainBikeRide', 'Velomobile', 'Handcycle'))
{%- endmacro %}
