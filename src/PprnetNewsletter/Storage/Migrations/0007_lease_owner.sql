-- Which run holds a row in 'sending'. A run takes back rows whose lease ran out only from other runs (ones that
-- died): its own rows may wait in its queue past their lease when sending is slow, and taking them back sent them
-- twice. Adding a column with no default rewrites nothing, however many rows the table has.
ALTER TABLE deliveries ADD COLUMN lease_owner INTEGER;
