"""Frame interpolation: more frames per second from the frames there are (weight-free optical flow by default,
RIFE 4.25/4.26 where its weights are present). ``timing`` plans which moment each output frame shows, ``flow`` is
the weight-free interpolator, ``poses`` what known poses add to it, ``methods`` picks one, ``video`` runs a clip."""
