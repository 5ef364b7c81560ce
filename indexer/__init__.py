"""Furet's indexer: reads articles in the formats news sites publish and keeps the index."""
