//! One task per appliance: log in, read schedule and jobs, hand the result to the store.
