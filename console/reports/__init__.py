"""Reports: a month's service levels against the agreement, and the tables every plan gets."""
