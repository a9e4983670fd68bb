"""Networks, kept apart from the objectives that train them."""
