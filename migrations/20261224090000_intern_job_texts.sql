-- Job rows shrink: the texts that repeat from job to job are stored once.
--
-- Across millions of jobs the user name, the version and build, and the backup folder
-- that holds each job's own subfolder are the same for long runs of rows. They move to
-- `job_texts`, and a job keeps the small row id instead. The location is split at its last
-- '/': the folder part is interned, the last part (usually unique to the job) stays in the
-- row, and the two joined give the location back byte for byte.
--
-- A text is never deleted: pruned jobs may leave some unused, and there are few of them.
-- The job columns carry no REFERENCES clause so that inserting a job needs no extra check.
CREATE TABLE job_texts (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL UNIQUE
) STRICT;

INSERT OR IGNORE INTO job_texts (text)
SELECT user_name FROM jobs WHERE user_name IS NOT NULL
UNION SELECT version FROM jobs WHERE version IS NOT NULL
UNION SELECT build FROM jobs WHERE build IS NOT NULL
-- rtrim with every other character of the text as the set to strip keeps the text up to
-- and including its last '/'.
UNION SELECT rtrim(location, replace(location, '/', '')) FROM jobs
      WHERE location IS NOT NULL AND instr(location, '/') > 0;

-- job_texts ids; NULL when the appliance did not say.
ALTER TABLE jobs ADD COLUMN user_text INTEGER;
ALTER TABLE jobs ADD COLUMN version_text INTEGER;
ALTER TABLE jobs ADD COLUMN build_text INTEGER;
-- The location is the folder text (none when the location has no '/') followed by the
-- leaf; NULL leaf means no location at all.
ALTER TABLE jobs ADD COLUMN location_folder INTEGER;
ALTER TABLE jobs ADD COLUMN location_leaf TEXT;

UPDATE jobs SET
    user_text = (SELECT id FROM job_texts WHERE text = jobs.user_name),
    version_text = (SELECT id FROM job_texts WHERE text = jobs.version),
    build_text = (SELECT id FROM job_texts WHERE text = jobs.build),
    location_folder = (
        SELECT id FROM job_texts WHERE instr(jobs.location, '/') > 0
          AND text = rtrim(jobs.location, replace(jobs.location, '/', ''))),
    location_leaf = substr(
        location, length(rtrim(location, replace(location, '/', ''))) + 1)
WHERE user_name IS NOT NULL OR version IS NOT NULL OR build IS NOT NULL
   OR location IS NOT NULL;

ALTER TABLE jobs DROP COLUMN user_name;
ALTER TABLE jobs DROP COLUMN version;
ALTER TABLE jobs DROP COLUMN build;
ALTER TABLE jobs DROP COLUMN location;

-- Newest-first walks over one appliance's jobs (its newest, newest good and running job;
-- the trends grid of a page of appliances) read the state from the index alone, instead
-- of one table row per job passed over.
DROP INDEX jobs_by_start;
CREATE INDEX jobs_by_start ON jobs (appliance_id, start_ms, state);
