"""Where a model comes from (``source``: the demo name, local directories, the Hub) and what it is made of
(``info``): the tiny offline demo model, the Hub (cache, reachability, downloads with progress), chat formats."""
