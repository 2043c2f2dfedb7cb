"""Domain layer: users, subscriptions, billing, activity, catalogue, analytics, and all their SQL.

Nothing here imports Streamlit; pages, the ETL and the seeder call in.
"""
