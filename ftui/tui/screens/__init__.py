"""One screen per mode: plan, data, train, evaluate."""
