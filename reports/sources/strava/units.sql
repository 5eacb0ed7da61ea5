-- what distances, elevations, speeds and paces are shown in (units under [reports] in .dlt/config.toml)
select * from units
