"""booking: workshop bookings and test drives, on schedules the database enforces."""
