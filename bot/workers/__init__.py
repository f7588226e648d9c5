"""Worker processes for CPU-heavy jobs: pool.py in the bot, child.py in each worker."""
