-- the one colour of each sport, in every chart (and on the route map)
select sport_type, colour from sport_colours order by sport_type
