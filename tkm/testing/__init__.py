"""Building blocks shared by the tests, the benchmarks and the demo data set.

- ``builders``: request bodies and values (NIKs, members, programmes, budgets, business plans, rubric scores);
- ``samples``: small real files to upload (PDF, JPEG, PNG);
- ``seeding``: rows written straight into the database (groups, applications, history) where a test or a
  benchmark needs data without going through the workflow;
- ``processes``: ``tkm`` commands, Celery workers and the web server as real child processes;
- ``time_travel``: moving an approval into the past, report periods of past months;
- ``external``: finding PostgreSQL, Redis and Chromium, throwaway PostgreSQL databases.

Nothing here is used by the running application. The modules do not import pytest at import time, so
benchmarks and ``tkm demo`` may use them.
"""
