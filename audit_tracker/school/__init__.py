"""The school's presentation: its legal entity, governance, sites, staff, funders and partners."""
