-- the tests of the last `dbt build`/`dbt test` (dbt_project/target/run_results.json), one row per test
select test_name, test_type, tested_model, status, failures, message, execution_time_s, generated_at_utc
from dbt_tests
