"""How ``accel_device.bench`` measures: warm-up, batches, adaptive sampling on each device's clock."""
