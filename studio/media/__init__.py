"""Reading photos and videos: decoding, orientation, trimming, probing."""
