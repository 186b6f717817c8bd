"""Kefu (客服): customer-service platform for e-commerce shops."""
