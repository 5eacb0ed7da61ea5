{{ period_summary('month') }}
