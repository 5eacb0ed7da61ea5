{{ period_summary('week') }}
